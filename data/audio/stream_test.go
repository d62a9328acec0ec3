package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/gle-go/gle/internal/errs"
)

// readAll reads r in blocks of n samples.
func readAll(t *testing.T, r *PCMReader, n int) []float64 {
	t.Helper()
	var out []float64
	buf := make([]float64, n)
	for {
		k, err := r.Read(buf)
		out = append(out, buf[:k]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			t.Fatal("Read returned 0 samples and no error")
		}
	}
}

// chunk is a RIFF chunk: id, little-endian size, body (padded to even).
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

func fmtBody(format, channels, bits uint16, rate uint32, extensible uint16) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint16(b[0:], format)
	binary.LittleEndian.PutUint16(b[2:], channels)
	binary.LittleEndian.PutUint32(b[4:], rate)
	binary.LittleEndian.PutUint16(b[14:], bits)
	if extensible != 0 {
		b = append(b, make([]byte, 24)...)
		binary.LittleEndian.PutUint16(b[24:], extensible)
	}
	return b
}

func riff(chunks ...[]byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	for _, c := range chunks {
		b = append(b, c...)
	}
	return b
}

// TestPCMReader: a WAV stream and raw PCM read block by block give the
// samples the whole-file decoder gives, in any block size, also with a
// chunk before fmt, an extensible header or an unknown data size; bad
// headers are refused with ErrFormat.
func TestPCMReader(t *testing.T) {
	x := make([]float64, 1001)
	for i := range x {
		x[i] = 0.9 * math.Sin(float64(i)/7)
	}
	file := EncodeWAV16(x, 16000)
	whole, err := DecodeWAV(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, 1000, 5000} {
		r, err := NewWAVReader(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, r, n); r.SampleRate != 16000 || !slices.Equal(got, whole.Samples) {
			t.Fatalf("blocks of %d: %d samples at %d Hz, want the decoder's %d", n, len(got), r.SampleRate, len(whole.Samples))
		}
	}
	data := file[44:] // the samples of the canonical 44-byte header
	if got := readAll(t, NewPCMReader(bytes.NewReader(data), 8000), 64); !slices.Equal(got, whole.Samples) {
		t.Errorf("raw PCM: %d samples, want %d", len(got), len(whole.Samples))
	}
	// A LIST chunk first, an extensible fmt and an unknown (0) data size:
	// read to the end of the stream; an odd trailing byte is dropped.
	odd := append(append([]byte(nil), data...), 0x7f)
	for _, size := range []uint32{0, 0xffffffff} {
		d := chunk("data", nil)
		binary.LittleEndian.PutUint32(d[4:], size)
		stream := riff(chunk("LIST", []byte("abc")), chunk("fmt ", fmtBody(0xfffe, 1, 16, 22050, 1)), append(d, odd...))
		r, err := NewWAVReader(bytes.NewReader(stream))
		if err != nil {
			t.Fatalf("data size %#x: %v", size, err)
		}
		if got := readAll(t, r, 100); r.SampleRate != 22050 || !slices.Equal(got, whole.Samples) {
			t.Errorf("data size %#x: %d samples at %d Hz, want %d at 22050", size, len(got), r.SampleRate, len(whole.Samples))
		}
	}
	// A data chunk that says 3 samples: exactly those.
	d := chunk("data", nil)
	binary.LittleEndian.PutUint32(d[4:], 6)
	r, _ := NewWAVReader(bytes.NewReader(riff(chunk("fmt ", fmtBody(1, 1, 16, 16000, 0)), append(d, data...))))
	if got := readAll(t, r, 2); !slices.Equal(got, whole.Samples[:3]) {
		t.Errorf("a 6-byte data chunk: %v, want %v", got, whole.Samples[:3])
	}
	for name, stream := range map[string][]byte{
		"not RIFF":        append([]byte("RIFX"), file[4:]...),
		"no data":         riff(chunk("fmt ", fmtBody(1, 1, 16, 16000, 0))),
		"data before fmt": riff(chunk("data", data)),
		"short fmt":       riff(chunk("fmt ", make([]byte, 14)), chunk("data", data)),
		"truncated chunk": riff(chunk("fmt ", fmtBody(1, 1, 16, 16000, 0)))[:20],
		"stereo":          riff(chunk("fmt ", fmtBody(1, 2, 16, 16000, 0)), chunk("data", data)),
		"8 bits":          riff(chunk("fmt ", fmtBody(1, 1, 8, 16000, 0)), chunk("data", data)),
		"float":           riff(chunk("fmt ", fmtBody(3, 1, 16, 16000, 0)), chunk("data", data)),
	} {
		if _, err := NewWAVReader(bytes.NewReader(stream)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

// TestMelPlanFrame: one frame is the matching column of LogMel; wrong
// lengths are refused with ErrShape.
func TestMelPlanFrame(t *testing.T) {
	p := GSCMel()
	p.SampleRate = 16000
	q, err := NewMelPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 4000)
	for i := range x {
		x[i] = math.Sin(float64(i)/5) * math.Cos(float64(i)/31)
	}
	lm, err := q.LogMel(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	frames := p.Frames(len(x))
	// Frame f covers samples [f·hop − n_fft/2, f·hop + n_fft/2): take one
	// inside the clip (no reflection).
	f := 3
	col := make([]float64, p.NMels)
	if err := q.Frame(col, x[f*p.Hop-p.NFFT/2:f*p.Hop+p.NFFT/2]); err != nil {
		t.Fatal(err)
	}
	for m := range col {
		if d := math.Abs(col[m] - lm[m*frames+f]); !(d <= 1e-12*math.Max(1, math.Abs(col[m]))) {
			t.Fatalf("band %d: frame %g, LogMel %g", m, col[m], lm[m*frames+f])
		}
	}
	if err := q.Frame(col, x[:p.NFFT-1]); !errors.Is(err, errs.ErrShape) {
		t.Errorf("n_fft − 1 samples: %v, want ErrShape", err)
	}
	if err := q.Frame(col[:p.NMels-1], x[:p.NFFT]); !errors.Is(err, errs.ErrShape) {
		t.Errorf("n_mels − 1 outputs: %v, want ErrShape", err)
	}
}
