"""daiban for developers: embedded servers, `daiban run`, the demo county, dev tokens, AsyncAPI."""
