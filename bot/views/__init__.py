"""Pure view functions: (state, locale) -> (text, keyboard). No database, no network; handlers send what they build."""
