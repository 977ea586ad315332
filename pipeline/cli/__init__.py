"""The `fpls` command line: `app` assembles the typer app from each concern's `register(app)`;
`*_commands` modules are thin commands over the stages. The top layer: may import everything.
"""
