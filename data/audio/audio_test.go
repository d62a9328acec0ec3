package audio

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gle-go/gle"
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

// TestLogMelMatchesReference compares the recorded cases to 1e-6
// relative (max |a−b| / max(1, |b|)): two full-band filterbanks
// (melspec_yes.json) and two band-limited ones, f_min > 0 and
// f_max < sr/2 (melspec_yes_band.json).
func TestLogMelMatchesReference(t *testing.T) {
	for _, file := range []string{"melspec_yes.json", "melspec_yes_band.json"} {
		t.Run(file, func(t *testing.T) { testLogMelFile(t, file) })
	}
}

func testLogMelFile(t *testing.T, name string) {
	ref := testutil.ReferenceDir(t)
	raw, err := os.ReadFile(filepath.Join(ref, name))
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
		if !(worst <= 1e-6) { // NaN fails too
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

// wavBytes builds a WAV file with the given format tag, bits, channels and
// raw sample bytes.
func wavBytes(format, bits, channels int, data []byte) []byte {
	le := binary.LittleEndian
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+len(data)))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, uint16(format))
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, 16000)
	b = le.AppendUint32(b, uint32(16000*channels*bits/8))
	b = le.AppendUint16(b, uint16(channels*bits/8))
	b = le.AppendUint16(b, uint16(bits))
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(len(data)))
	return append(b, data...)
}

func TestDecodeEncodings(t *testing.T) {
	le := binary.LittleEndian
	f32 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	for _, tc := range []struct {
		name                   string
		format, bits, channels int
		data                   []byte
		want                   []float64
	}{
		{"8-bit unsigned", 1, 8, 1, []byte{128, 255, 0}, []float64{0, 127.0 / 128, -1}},
		{"24-bit", 1, 24, 1, []byte{0, 0, 0x40, 0xff, 0xff, 0xff}, []float64{0.5, -1.0 / (1 << 23)}},
		{"32-bit int", 1, 32, 1, le.AppendUint32(nil, 1<<30), []float64{0.5}},
		{"float32 stereo mixed", 3, 32, 2, f32(0.5, -0.25, 1, 1), []float64{0.125, 1}},
		{"16-bit stereo mixed", 1, 16, 2, []byte{0, 0x40, 0, 0xc0}, []float64{0}},
	} {
		w, err := DecodeWAV(wavBytes(tc.format, tc.bits, tc.channels, tc.data))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(w.Samples) != len(tc.want) {
			t.Errorf("%s: %d samples, want %d", tc.name, len(w.Samples), len(tc.want))
			continue
		}
		for i, v := range tc.want {
			if !(math.Abs(w.Samples[i]-v) <= 1e-12) {
				t.Errorf("%s: sample %d = %g, want %g", tc.name, i, w.Samples[i], v)
			}
		}
	}
	if _, err := DecodeWAV(wavBytes(2, 4, 1, []byte{1})); !errors.Is(err, ErrFormat) {
		t.Errorf("ADPCM: %v, want ErrFormat", err)
	}
}

// TestLogMelErrors: bad parameters and samples are refused naming the
// field and value; a spectrogram larger than the memory limit is refused
// before it is allocated.
func TestLogMelErrors(t *testing.T) {
	gle.SetMemoryLimit(1 << 30)
	defer gle.SetMemoryLimit(0)
	x := make([]float64, 4000)
	for _, c := range []struct {
		edit     func(*MelParams, []float64) []float64
		sentinel error
		want     string
	}{
		{func(p *MelParams, x []float64) []float64 { p.NFFT = 1023; return x }, gle.ErrInvalid, "mel.n_fft = 1023"},
		{func(p *MelParams, x []float64) []float64 { p.NMels = 0; return x }, gle.ErrInvalid, "mel.n_mels = 0"},
		{func(p *MelParams, x []float64) []float64 { p.NMels = 1 << 30; return x }, gle.ErrInvalid, "mel.n_mels = 1073741824"},
		{func(p *MelParams, x []float64) []float64 { p.NMels = 1 << 24; return x }, gle.ErrTooLarge, "mel.n_mels = 16777216: needs ≈"},
		{func(p *MelParams, x []float64) []float64 { p.FMax = 9000; return x }, gle.ErrInvalid, "mel.f_min/f_max = 0/9000"},
		{func(p *MelParams, x []float64) []float64 { return x[:100] }, gle.ErrShape, "samples = 100"},
		{func(p *MelParams, x []float64) []float64 { y := slices.Clone(x); y[7] = math.NaN(); return y }, gle.ErrNonFinite, "samples[7] = NaN"},
	} {
		p := GSCMel()
		_, err := p.LogMel(c.edit(&p, x))
		if !errors.Is(err, c.sentinel) || !strings.Contains(fmt.Sprint(err), c.want) {
			t.Errorf("got %v, want %v naming %q", err, c.sentinel, c.want)
		}
	}
}
