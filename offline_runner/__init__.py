"""Runs the program without the Pulumi engine: the stack config as the CLI hands it over, and the
program under Pulumi's mock runtime, recording what it declares. The user tools (``make validate``,
``make render-nginx``, ``make docs``) and the tests use it."""
