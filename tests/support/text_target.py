"""Another X11 app to dictate into: a Tk window with a text box that has the keyboard focus.

    python tests/support/text_target.py OUT.json

Every 20 ms it writes what the box holds, and how often it lost the keyboard focus, to
OUT.json (replaced whole, so a reader never sees half of it): the dictation tests read the words
that arrived there and check that the focus never left."""

from __future__ import annotations

import json
import os
import sys
import tkinter

TITLE = "Dictation target"


def main(out: str) -> None:
    root = tkinter.Tk()
    root.title(TITLE)
    root.geometry("700x300+40+40")
    box = tkinter.Text(root, font=("DejaVu Sans", 14), wrap="word")
    box.pack(fill="both", expand=True)
    box.focus_set()
    lost = 0

    def focus_out(_event: object) -> None:
        nonlocal lost
        lost += 1

    box.bind("<FocusOut>", focus_out)
    written = None

    def save() -> None:
        nonlocal written
        state = {"text": box.get("1.0", "end-1c"), "focus_lost": lost}
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
    main(sys.argv[1])
