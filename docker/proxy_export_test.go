package docker

// ParseProxyList exposes the `kamal-proxy list` parser to the tests.
var ParseProxyList = parseProxyList
