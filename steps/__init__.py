"""pytest-bdd step definitions and the plugins that turn a pytest run into a verdict with evidence."""
