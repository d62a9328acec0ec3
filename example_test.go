package gle_test

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
)

// A latent-equilibrium neuron (τm = τr) responds instantaneously: after
// one step its rate is φ(W x + b), whatever its time constants.
func Example() {
	spec, err := gle.DecodeSpec([]byte(`
dt: 0.1
loss: none
layers:
  - {in: 1, out: 1, phi: tanh, tau_m: 2.0, tau_r: 2.0, weight: [[0.5]], bias: [0.25]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	net, err := gle.NewNetwork(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, _ := gle.NewEngine(net, 1)
	out := make([]float64, 1)
	for _, x := range []float64{1, 2, 2} {
		eng.Step(out, []float64{x}, gle.Target{})
		fmt.Printf("input %.0f: output (previous step's rate) %.4f, rate now %.4f\n", x, out[0], eng.State().Pops[0].R[0])
	}
	// Output:
	// input 1: output (previous step's rate) 0.0000, rate now 0.6351
	// input 2: output (previous step's rate) 0.6351, rate now 0.8483
	// input 2: output (previous step's rate) 0.8483, rate now 0.8483
}

// Validation names the field and the value that are wrong.
func ExampleSpec_Validate() {
	spec, _ := gle.DecodeSpec([]byte(`{"dt": 0.1, "layers": [{"in": 1, "out": 2, "phi": "tanh", "tau_m": 0.05, "tau_r": 0.1}]}`))
	fmt.Println(spec.Validate())
	// Output:
	// layers[0].tau_m[0] = 0.05: must be ≥ dt = 0.1
}

// The float32 engine runs the same network with float32 state and
// products; its outputs follow the float64 engine's within float32
// rounding.
func ExampleNewEngine32() {
	spec, _ := gle.DecodeSpec([]byte(`
dt: 0.1
loss: none
seed: 1
layers:
  - {in: 1, out: 20, phi: tanh, tau_m: 1.0, tau_r: 0.1}
  - {in: 20, out: 1, phi: linear, tau_m: 0.5, tau_r: 0.5}
`))
	net, _ := gle.NewNetwork(spec)
	e64, _ := gle.NewEngine(net, 1)
	e32, _ := gle.NewEngine32(net, 1)
	o64, o32 := make([]float64, 1), make([]float64, 1)
	var worst float64
	for t := range 100 {
		x := []float64{math.Sin(0.2 * float64(t))}
		e64.Step(o64, x, gle.Target{})
		e32.Step(o32, x, gle.Target{})
		worst = max(worst, math.Abs(o64[0]-o32[0]))
	}
	fmt.Printf("output at step 100: %.5f (float64), %.5f (float32); largest difference below 1e-6: %v\n", o64[0], o32[0], worst < 1e-6)
	// Output:
	// output at step 100: 0.03606 (float64), 0.03606 (float32); largest difference below 1e-6: true
}
