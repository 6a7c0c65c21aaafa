/* The survey page: previews that follow the form as it is typed in, and the snippet's copy
 * button. Without this script the page works the same through its Preview buttons, and the
 * snippet is plain selectable text. */
(() => {
  "use strict";
  const form = document.getElementById("survey-form");
  if (form) {
    const buttons = Array.from(form.querySelectorAll("button[data-preview]"));
    let timer = null;
    // Each preview button posts the form's current values into its frame, as a click would.
    // One at a time: a form's submission still waiting to start is replaced by its next one.
    const refresh = () => {
      timer = null;
      buttons.forEach((button, i) => setTimeout(() => form.requestSubmit(button), i * 100));
    };
    const later = () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    const status = button.parentElement.querySelector(".copy-status");
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        () => { status.textContent = "Copied."; },
        () => { status.textContent = "Copying was refused: select the text and copy it."; },
      );
    });
  });
})();
