package expt

import (
	"context"
	"testing"
)

// BenchmarkLagLineStep times one dt step of the LagLine experiment
// (teacher + student, batch 100, learning on), per variant.
func BenchmarkLagLineStep(b *testing.B) {
	for _, v := range []string{"gle", "bptt-tw1"} {
		b.Run(v, func(b *testing.B) {
			c := DefaultLagLine()
			c.Variant = v
			c.SettleTime = 0
			c.TrainTime = float64(b.N) * c.Dt
			c.LogEvery = c.TrainTime
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := RunLagLine(context.Background(), c, nil); err != nil {
				b.Fatal(err)
			}
		})
	}
}
