package gradient_test

import (
	"fmt"
	"math"

	"github.com/gle-go/gle"
	"github.com/gle-go/gle/gradient"
)

// A recurrent population declared in a spec: the local rule's updates,
// summed over a run, point along the exact gradient while the loop gain
// ρ(W_hh)·τm/τr stays below 1, and stray from it above.
func ExampleAlign() {
	spec, err := gle.DecodeSpec([]byte(`
dt: 0.02
loss: mse
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
	net, err := gle.NewNetwork(spec)
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
		gains, err := gle.LoopGains(net)
		if err != nil {
			fmt.Println(err)
			return
		}
		rows, err := gradient.Align(net, 1, xs, ts, len(xs))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("loop gain %.2f:", gains[0].Gain)
		for _, r := range rows {
			var k int
			if _, err := fmt.Sscanf(r.Param, "projections.%d.weight", &k); err == nil && r.Window == -1 {
				fmt.Printf("  %s %.2f", net.ProjectionName(k), r.Cosine)
			}
		}
		fmt.Println()
	}
	// Output:
	// loop gain 1.79:  input→h -0.21  h→h -0.19  h→out 1.00
	// loop gain 0.18:  input→h 1.00  h→h 1.00  h→out 1.00
}
