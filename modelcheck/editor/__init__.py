"""Editor and documentation support: the grammar's words, the Pygments lexer,
the names a spec declares and uses, and the language server.  Nothing here is
imported by `modelcheck check`."""
