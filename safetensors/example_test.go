package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/safetensors"
)

// A network saved as safetensors comes back whole: the structure from
// the file's metadata, the parameters from its tensors.
func ExampleSave() {
	spec, _ := gle.DecodeSpec([]byte(`{"dt": 0.1, "seed": 2, "layers": [{"in": 2, "out": 3, "phi": "tanh", "tau_m": 1, "tau_r": 0.5}]}`))
	net, _ := gle.NewNetwork(spec)
	net.Projs[0].W[4] = 0.125 // a change of its own
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "net.safetensors")
	if err := safetensors.Save(path, net, spec); err != nil {
		fmt.Println(err)
		return
	}
	back, _, err := safetensors.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range back.Tensors() {
		fmt.Println(t.Name, t.Shape)
	}
	fmt.Println("weight[4] =", back.Projs[0].W[4])
	// Output:
	// layers.0.weight [3 2]
	// layers.0.bias [3]
	// layers.0.tau_m [3]
	// layers.0.tau_r [3]
	// weight[4] = 0.125
}
