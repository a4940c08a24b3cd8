/* The chair's and admins' pages: a "Copy" button for the commands shown (the command stays
   selectable text without JavaScript). */
(function () {
  "use strict";
  function setUp() {
    var blocks = document.querySelectorAll("[data-copy]");
    Array.prototype.forEach.call(blocks, function (block) {
      var target = document.getElementById(block.getAttribute("data-copy"));
      if (!target || !navigator.clipboard) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = block.getAttribute("data-label") || "Copy";
      var status = document.createElement("span");
      status.className = "copied";
      status.setAttribute("role", "status");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.textContent.trim()).then(function () {
          status.textContent = block.getAttribute("data-done") || "Copied";
        }, function () {
          status.textContent = "";
        });
      });
      block.appendChild(button);
      block.appendChild(status);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
}());
