from oathdesk.cli.main import run

run()
