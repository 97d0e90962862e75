package docker

import (
	"bytes"
	"encoding/json"

	"github.com/moby/moby/api/types/swarm"
)

// Equal says two recorded specs set the same Swarm spec, however the
// manager spaced or ordered their JSON.
func (r RecordedSpec) Equal(o RecordedSpec) bool {
	a, errA := canonicalSpec(r)
	b, errB := canonicalSpec(o)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// Image is the image a recorded spec runs; "" when it cannot be read.
func (r RecordedSpec) Image() string {
	var spec swarm.ServiceSpec
	if json.Unmarshal(r, &spec) != nil || spec.TaskTemplate.ContainerSpec == nil {
		return ""
	}
	return spec.TaskTemplate.ContainerSpec.Image
}

func canonicalSpec(r RecordedSpec) ([]byte, error) {
	var spec swarm.ServiceSpec
	if err := json.Unmarshal(r, &spec); err != nil {
		return nil, err
	}
	return json.Marshal(spec)
}
