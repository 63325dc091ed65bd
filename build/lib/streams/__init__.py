"""What travels between the plant and its viewers: the event schema and the buses that carry it."""
