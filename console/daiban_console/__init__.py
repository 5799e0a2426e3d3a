"""The daiban console: a static site the browser runs against the four services' HTTP APIs."""
