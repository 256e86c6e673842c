"""Another X11 app to dictate into: a Tk window with a text box that has the keyboard focus.

    python tests/support/text_target.py OUT.json [CLIPBOARD]

Every 20 ms it writes what the box holds to OUT.json (replaced whole, so a reader never sees half
of it): the dictation tests read the words that arrived there. Where the focus is they ask the X
server: a global shortcut's key grab sends the focused app FocusOut and FocusIn events while the
keys are held, though the focus stays where it is."""

from __future__ import annotations

import json
import os
import sys
import tkinter

TITLE = "Dictation target"


def main(out: str, clipboard: str | None = None) -> None:
    root = tkinter.Tk()
    root.title(TITLE)
    root.geometry("700x300+40+40")
    box = tkinter.Text(root, font=("DejaVu Sans", 14), wrap="word")
    box.pack(fill="both", expand=True)
    box.focus_set()
    if clipboard is not None:  # what the user had copied before dictating (Tk serves it while it runs)
        root.clipboard_clear()
        root.clipboard_append(clipboard)
    written = None

    def save() -> None:
        nonlocal written
        state = {"text": box.get("1.0", "end-1c")}
        if state != written:
            temporary = out + ".tmp"
            with open(temporary, "w", encoding="utf-8") as file:
                json.dump(state, file)
            os.replace(temporary, out)
            written = state
        root.after(20, save)

    save()
    root.mainloop()


if __name__ == "__main__":
    main(*sys.argv[1:3])
