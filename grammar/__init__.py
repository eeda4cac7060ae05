"""The lark grammar of the .fspec language, shipped as `modelcheck.grammar`."""
