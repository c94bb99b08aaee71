// Every picture a page's code made links to itself at full size: a figure shrunk to the
// column stays legible one click away.
document.addEventListener("DOMContentLoaded", () => {
  for (const img of document.querySelectorAll(".cell_output img")) {
    if (img.closest("a")) continue;
    const link = document.createElement("a");
    link.href = img.src;
    link.className = "full-size";
    link.title = "open the picture at full size";
    img.replaceWith(link);
    link.appendChild(img);
  }
});
