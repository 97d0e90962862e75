package docker

// ServiceSpecRoundTrip turns spec into Swarm's form and back, as creating
// a service and inspecting it do.
func ServiceSpecRoundTrip(spec ServiceSpec) ServiceSpec { return fromSwarm(spec.swarm()) }
