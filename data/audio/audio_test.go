package audio

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gle-go/gle/internal/testutil"
)

type melCase struct {
	Params struct {
		SampleRate int     `json:"sample_rate"`
		NFFT       int     `json:"n_fft"`
		Hop        int     `json:"hop_length"`
		NMels      int     `json:"n_mels"`
		FMin       float64 `json:"f_min"`
		FMax       float64 `json:"f_max"`
	} `json:"params"`
	LogMel [][]float64 `json:"log_mel"`
}

// TestLogMelMatchesReference compares both recorded cases to 1e-6
// relative (max |a−b| / max(1, |b|)).
func TestLogMelMatchesReference(t *testing.T) {
	ref := testutil.ReferenceDir(t)
	raw, err := os.ReadFile(filepath.Join(ref, "melspec_yes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases map[string]melCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	w, err := ReadWAVFile(filepath.Join(ref, "yes_16k.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if w.SampleRate != 16000 || len(w.Samples) != 16000 {
		t.Fatalf("yes_16k.wav: %d Hz, %d samples", w.SampleRate, len(w.Samples))
	}
	if len(file.Cases) < 2 {
		t.Fatalf("%d cases", len(file.Cases))
	}
	for name, c := range file.Cases {
		p := MelParams{SampleRate: c.Params.SampleRate, NFFT: c.Params.NFFT, Hop: c.Params.Hop, NMels: c.Params.NMels, FMin: c.Params.FMin, FMax: c.Params.FMax}
		got, err := p.LogMel(w.Samples)
		if err != nil {
			t.Fatal(err)
		}
		frames := p.Frames(len(w.Samples))
		if len(c.LogMel) != p.NMels || len(c.LogMel[0]) != frames {
			t.Fatalf("%s: reference %d×%d, ours %d×%d", name, len(c.LogMel), len(c.LogMel[0]), p.NMels, frames)
		}
		var worst float64
		for m, row := range c.LogMel {
			for f, want := range row {
				worst = math.Max(worst, math.Abs(got[m*frames+f]-want)/math.Max(1, math.Abs(want)))
			}
		}
		t.Logf("%s: max relative error %.3g", name, worst)
		if worst > 1e-6 {
			t.Errorf("%s: max relative error %.3g > 1e-6", name, worst)
		}
	}
}

func TestWAVRoundTripAndErrors(t *testing.T) {
	in := []float64{0, 0.5, -0.5, 0.999, -1}
	w, err := DecodeWAV(EncodeWAV16(in, 8000))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range in {
		if math.Abs(w.Samples[i]-v) > 1.0/32768 {
			t.Errorf("sample %d: %g, want %g", i, w.Samples[i], v)
		}
	}
	good := EncodeWAV16(in, 8000)
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not wav":   []byte("RIFX1234WAVEfmt "),
		"truncated": good[:len(good)-3],
		"no data":   good[:36],
	} {
		if _, err := DecodeWAV(data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

func FuzzDecodeWAV(f *testing.F) {
	f.Add(EncodeWAV16([]float64{0, 0.25, -0.25}, 16000))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := DecodeWAV(data)
		if err == nil && (w.Channels < 1 || w.SampleRate < 1) {
			t.Fatalf("accepted %d channels at %d Hz", w.Channels, w.SampleRate)
		}
	})
}
