"""`python -m sim`: the `caseflow` command line, for when the console script is not on the PATH."""

from sim.cli.app import app


def main() -> None:
    """Run the command line under its installed name, so help and errors say `caseflow`."""
    app(prog_name="caseflow")


if __name__ == "__main__":
    main()
