"""Run the README's ```python blocks for tests/readme/run: in order, in this one interpreter.

    python_blocks.py BLOCKS.json

BLOCKS.json is a list of {"line", "code", "prefix"}: the 1-based README line of the block's
fence, its code (addresses already swapped) and where its results go. The blocks share one
namespace, as the console examples share one bash, so a block uses what an earlier one defined.
Each block's standard output goes to PREFIX.out, its standard error (a traceback when it raises)
to PREFIX.err and 0 or 1 to PREFIX.status; a block that raises does not stop the later ones.
Tracebacks name README.md and its line numbers.
"""
import contextlib
import json
import sys
import traceback


def main():
    with open(sys.argv[1], encoding="utf-8") as file:
        blocks = json.load(file)
    namespace = {"__name__": "__main__"}
    for block in blocks:
        # Blank lines before the code, so that its line numbers are the README's.
        source = "\n" * block["line"] + block["code"] + "\n"
        prefix = block["prefix"]
        status = 0
        with open(f"{prefix}.out", "w", encoding="utf-8") as out, open(f"{prefix}.err", "w", encoding="utf-8") as err:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    exec(compile(source, "README.md", "exec"), namespace)
                except BaseException:  # noqa: BLE001 — SystemExit and KeyboardInterrupt are failures too
                    traceback.print_exc()
                    status = 1
                finally:
                    sys.stdout.flush()
        with open(f"{prefix}.status", "w", encoding="utf-8") as file:
            file.write(f"{status}\n")


if __name__ == "__main__":
    main()
