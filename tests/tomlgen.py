"""TOML text for the property-based tests of rule and sweep files: any generated value, written as TOML."""


def toml_value(value) -> str:
    """``value`` as a TOML value: booleans, floats with nan and inf, strings with every odd character escaped,
    lists, inline tables; anything else as Python writes it (which TOML may refuse: the parsers must say so)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value == float("inf") else
                                             "-inf" if value == float("-inf") else repr(value))
    if isinstance(value, str):
        return '"' + "".join(c if c.isalnum() else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return str(value)
