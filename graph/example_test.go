package graph_test

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/graph"
)

// A recurrent population declared in a spec: the local rule's updates,
// summed over a run, point along the exact gradient while the loop gain
// ρ(W_hh)·τm/τr stays below 1, and stray from it above.
func ExampleAlign() {
	spec, err := graph.DecodeSpec([]byte(`
dt: 0.02
loss: mse
beta: 1
prospective_errors: true
inputs: 1
output: out
seed: 2
populations:
  - {name: h, size: 6, phi: tanh, tau_m: 0.3, tau_r: 0.1}
  - {name: out, size: 1, phi: linear, tau_m: 0.3, tau_r: 0.1}
projections:
  - {from: input, to: h}
  - {from: h, to: h}
  - {from: h, to: out}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	net, err := graph.New(spec)
	if err != nil {
		fmt.Println(err)
		return
	}
	var xs [][]float64
	var ts []gle.Target
	for k := range 2000 {
		t := 0.02 * float64(k)
		xs = append(xs, []float64{math.Sin(t)})
		ts = append(ts, gle.Target{Values: []float64{0.5 * math.Cos(t)}})
	}
	for _, scale := range []float64{1, 0.1} {
		for i := range net.Projs[1].W {
			net.Projs[1].W[i] *= scale
		}
		rho, _ := net.SpectralRadius(1)
		rows, err := graph.Align(net, 1, xs, ts)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("loop gain %.2f:", rho*0.3/0.1)
		for _, r := range rows[:3] {
			fmt.Printf("  %s %.3f", r.Param, r.Cosine)
		}
		fmt.Println()
	}
	// Output:
	// loop gain 1.79:  W input→h -0.207  W h→h -0.193  W h→out 1.000
	// loop gain 0.18:  W input→h 1.000  W h→h 1.000  W h→out 1.000
}
