"""Built-in Platform-form XDM schemas for the default mappings (data files; see README.md)."""
