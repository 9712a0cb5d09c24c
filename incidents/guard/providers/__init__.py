"""One module per CI provider, behind one small interface: a verified webhook body in, the
completed runs it reports out (`list[RunReport]`, empty for an event that reports none), or
`BadPayload` for a body that is not the provider's documented shape."""
