package audio

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
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
		{func(p *MelParams, x []float64) []float64 { p.FMax = 9000; return x }, gle.ErrInvalid, "mel.f_min/f_max = 0/9000: need 0 ≤ f_min < f_max ≤ sample_rate/2 = 8000"},
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

// TestMelValidate: every parameter is checked at both ends of its range,
// naming the parameter and its value; f_max 0 means sample_rate/2.
func TestMelValidate(t *testing.T) {
	const big = 1 << 24
	for _, c := range []struct {
		edit func(*MelParams)
		want string // "" for valid
	}{
		{func(p *MelParams) {}, ""},
		{func(p *MelParams) { p.SampleRate = 0 }, "mel.sample_rate = 0"},
		{func(p *MelParams) { p.SampleRate = big }, ""},
		{func(p *MelParams) { p.SampleRate = big + 1 }, "mel.sample_rate = 16777217"},
		{func(p *MelParams) { p.NFFT = 2 }, ""},
		{func(p *MelParams) { p.NFFT = 0 }, "mel.n_fft = 0"},
		{func(p *MelParams) { p.NFFT = 3 }, "mel.n_fft = 3"},
		{func(p *MelParams) { p.NFFT = big }, ""},
		{func(p *MelParams) { p.NFFT = big + 2 }, "mel.n_fft = 16777218"},
		{func(p *MelParams) { p.Hop = 1 }, ""},
		{func(p *MelParams) { p.Hop = 0 }, "mel.hop = 0"},
		{func(p *MelParams) { p.Hop = big }, ""},
		{func(p *MelParams) { p.Hop = big + 1 }, "mel.hop = 16777217"},
		{func(p *MelParams) { p.NMels = 1 }, ""},
		{func(p *MelParams) { p.NMels = big }, ""},
		{func(p *MelParams) { p.NMels = big + 1 }, "mel.n_mels = 16777217"},
		{func(p *MelParams) { p.FMin = -1 }, "mel.f_min/f_max = -1/8000"},
		{func(p *MelParams) { p.FMin = 7999 }, ""},
		{func(p *MelParams) { p.FMin = 8000 }, "mel.f_min/f_max = 8000/8000"},
		{func(p *MelParams) { p.FMax = 8000.5 }, "mel.f_min/f_max = 0/8000.5: need 0 ≤ f_min < f_max ≤ sample_rate/2 = 8000"},
		{func(p *MelParams) { p.FMax = 0 }, ""},
		{func(p *MelParams) { p.FMax, p.SampleRate = 0, 8000 }, ""},
		{func(p *MelParams) { p.FMax, p.FMin, p.SampleRate = 0, 4000, 8000 }, "mel.f_min/f_max = 4000/4000"},
	} {
		p := GSCMel()
		c.edit(&p)
		err := p.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v, want valid", p, err)
		case c.want != "" && (!errors.Is(err, gle.ErrInvalid) || !strings.Contains(fmt.Sprint(err), c.want)):
			t.Errorf("%+v: %v, want ErrInvalid naming %q", p, err, c.want)
		}
	}
}

// TestLogMelShape: reflect padding needs more than n_fft/2 samples; the
// spectrogram has 1 + (n + 2·(n_fft/2) − n_fft)/hop frames (SPEC §10), and
// f_max 0 is sample_rate/2, bit for bit.
func TestLogMelShape(t *testing.T) {
	p := MelParams{SampleRate: 8000, NFFT: 64, Hop: 10, NMels: 6}
	x := make([]float64, 200)
	for i := range x {
		x[i] = math.Sin(0.3 * float64(i))
	}
	if _, err := p.LogMel(x[:32]); !errors.Is(err, gle.ErrShape) {
		t.Errorf("32 samples with n_fft 64: %v, want ErrShape", err)
	}
	for _, n := range []int{33, 64, 200} {
		out, err := p.LogMel(x[:n])
		frames := 1 + (n+64-64)/10
		if err != nil || p.Frames(n) != frames || len(out) != 6*frames {
			t.Errorf("%d samples: %v, %d frames (%d values), want %d", n, err, p.Frames(n), len(out), frames)
		}
	}
	full, _ := p.LogMel(x)
	p.FMax = 4000
	explicit, _ := p.LogMel(x)
	if !slices.Equal(full, explicit) {
		t.Error("f_max 0 differs from f_max = sample_rate/2")
	}
}

// TestMelBytes: Bytes, the estimate the memory limit is checked against,
// is within 25 % of what LogMel allocates, whichever part dominates: the
// padded signal, the filterbank, the spectrogram, or the FFT's buffers.
func TestMelBytes(t *testing.T) {
	for _, c := range []struct {
		p MelParams
		n int
	}{
		{MelParams{SampleRate: 16000, NFFT: 64, Hop: 64, NMels: 4}, 1 << 20},
		{MelParams{SampleRate: 16000, NFFT: 8192, Hop: 8192, NMels: 512}, 16384},
		{MelParams{SampleRate: 16000, NFFT: 64, Hop: 1, NMels: 64}, 1 << 16},
		{MelParams{SampleRate: 16000, NFFT: 1 << 16, Hop: 1 << 16, NMels: 1}, 1<<15 + 1},
		{GSCMel(), 16000},
	} {
		x := make([]float64, c.n)
		for i := range x {
			x[i] = float64(i%7) / 7
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := c.p.LogMel(x); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		alloc := float64(after.TotalAlloc - before.TotalAlloc)
		if r := c.p.Bytes(c.n) / alloc; r < 0.75 || r > 1.25 {
			t.Errorf("%+v, %d samples: Bytes %.4g, LogMel allocated %.4g (ratio %.3f)", c.p, c.n, c.p.Bytes(c.n), alloc, r)
		}
	}
}

// TestWAVHeader: EncodeWAV16 writes the canonical 44-byte header (RIFF
// size 36 + data bytes, byte rate 2·sample rate, block align 2, 16 bits,
// data size), which other readers rely on.
func TestWAVHeader(t *testing.T) {
	b := EncodeWAV16([]float64{0, 0.5, -1, 1}, 22050)
	le := binary.LittleEndian
	if len(b) != 44+8 || string(b[:4]) != "RIFF" || le.Uint32(b[4:]) != 36+8 || string(b[8:16]) != "WAVEfmt " ||
		le.Uint32(b[16:]) != 16 || le.Uint16(b[20:]) != 1 || le.Uint16(b[22:]) != 1 || le.Uint32(b[24:]) != 22050 ||
		le.Uint32(b[28:]) != 44100 || le.Uint16(b[32:]) != 2 || le.Uint16(b[34:]) != 16 || string(b[36:40]) != "data" || le.Uint32(b[40:]) != 8 {
		t.Errorf("header % x", b[:44])
	}
	if got := []int16{int16(le.Uint16(b[44:])), int16(le.Uint16(b[46:])), int16(le.Uint16(b[48:])), int16(le.Uint16(b[50:]))}; !slices.Equal(got, []int16{0, 16384, -32768, 32767}) {
		t.Errorf("samples %v", got)
	}
}

// TestDecodeWAVChunks: chunks are walked to the last byte (an empty data
// chunk ending the file, odd-sized chunks padded to even sizes, the
// extensible format), and each refusal says what is wrong.
func TestDecodeWAVChunks(t *testing.T) {
	le := binary.LittleEndian
	chunk := func(id string, body []byte) []byte {
		b := append([]byte(id), le.AppendUint32(nil, uint32(len(body)))...)
		b = append(b, body...)
		if len(body)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	fmtBody := func(format, channels, rate, bits int) []byte {
		b := le.AppendUint16(nil, uint16(format))
		b = le.AppendUint16(b, uint16(channels))
		b = le.AppendUint32(b, uint32(rate))
		b = le.AppendUint32(b, uint32(rate*channels*bits/8))
		b = le.AppendUint16(b, uint16(channels*bits/8))
		return le.AppendUint16(b, uint16(bits))
	}
	riff := func(chunks ...[]byte) []byte {
		var body []byte
		for _, c := range chunks {
			body = append(body, c...)
		}
		return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(4+len(body)))...), append([]byte("WAVE"), body...)...)
	}
	pcm := le.AppendUint16(le.AppendUint16(nil, 0x4000), 0xc000) // 0.5, −0.5
	ext := append(fmtBody(0xfffe, 1, 16000, 16), le.AppendUint16(nil, 22)...)
	ext = append(ext, make([]byte, 22)...)
	le.PutUint16(ext[24:], 1) // sub-format PCM
	f64 := le.AppendUint64(nil, math.Float64bits(0.25))
	for _, c := range []struct {
		name string
		data []byte
		want []float64
		err  string
	}{
		{"empty data chunk last", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("data", nil)), []float64{}, ""},
		{"odd chunk before data", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("LIST", []byte{1, 2, 3}), chunk("data", pcm)), []float64{0.5, -0.5}, ""},
		{"extensible PCM", riff(chunk("fmt ", ext), chunk("data", pcm)), []float64{0.5, -0.5}, ""},
		{"float64", riff(chunk("fmt ", fmtBody(3, 1, 16000, 64)), chunk("data", f64)), []float64{0.25}, ""},
		{"header only", riff(), nil, "no fmt chunk"},
		{"no data", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16))), nil, "no data chunk"},
		{"no channels", riff(chunk("fmt ", fmtBody(1, 0, 16000, 16)), chunk("data", pcm)), nil, "0 channels"},
		{"no sample rate", riff(chunk("fmt ", fmtBody(1, 1, 0, 16)), chunk("data", pcm)), nil, "sample rate 0"},
		{"1 Hz", riff(chunk("fmt ", fmtBody(1, 1, 1, 16)), chunk("data", pcm)), []float64{0.5, -0.5}, ""},
		{"short extensible", riff(chunk("fmt ", fmtBody(0xfffe, 1, 16000, 16)), chunk("data", pcm)), nil, "extensible fmt chunk of 16 bytes"},
		{"short fmt", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)[:14])), nil, "fmt chunk of 14 bytes"},
		{"truncated data", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("data", pcm))[:46], nil, "the data chunk declares 4 bytes, the file holds 2"},
		{"truncated LIST", riff(chunk("fmt ", fmtBody(1, 1, 16000, 16)), chunk("LIST", make([]byte, 10)))[:50], nil, `chunk "LIST" of 10 bytes is truncated`},
		{"float 16-bit", riff(chunk("fmt ", fmtBody(3, 1, 16000, 16)), chunk("data", pcm)), nil, "unsupported encoding (format 3, 16 bits)"},
		{"11 bytes", []byte("RIFF1234WAV"), nil, "no RIFF/WAVE header"},
	} {
		w, err := DecodeWAV(c.data)
		if c.err != "" {
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: %v, want ErrFormat with %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(w.Samples, c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, w, err, c.want)
		}
	}
}
