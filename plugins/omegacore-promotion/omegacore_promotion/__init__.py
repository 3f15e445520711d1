"""``store.promote(name, other_store)``: copy an object to another store, as omegaml does."""
