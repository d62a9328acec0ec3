package experiments

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

// BenchmarkWorkloads times the `gle bench` workloads (one step per
// iteration; lagline runs its own loop, see BenchmarkLagLineStep).
func BenchmarkWorkloads(b *testing.B) {
	for _, w := range Workloads() {
		if w.Name == "lagline" {
			continue
		}
		b.Run(w.Name, func(b *testing.B) {
			step, err := w.Setup()
			if err != nil {
				b.Fatal(err)
			}
			step()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := step(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(w.FLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
