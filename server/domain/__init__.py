"""Pure compliance domain: templates, rules, rating and cycle rollup (no SQL, no HTTP)."""
