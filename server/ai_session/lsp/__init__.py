"""The language server: thin pygls adapters mapping protocol methods to the SessionManager."""
