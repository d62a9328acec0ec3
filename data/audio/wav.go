package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/gle-go/gle/internal/atomicfile"
)

// ErrFormat marks a file that is not a WAV file this package reads, or a
// truncated one.
var ErrFormat = errors.New("audio: bad WAV file")

// WAV is decoded audio: Samples holds one value per frame, the channels
// mixed to mono by their mean, scaled to [−1, 1) (integer PCM divided by
// 2^(bits−1), as int16/32768 for 16-bit; 8-bit PCM is unsigned around
// 128; float samples are taken as they are).
type WAV struct {
	SampleRate int
	Channels   int // in the file, before mixing
	Bits       int // bits per sample in the file
	Samples    []float64
}

const (
	formatPCM        = 1
	formatFloat      = 3
	formatExtensible = 0xfffe
)

// ReadWAVFile reads a WAV file.
func ReadWAVFile(path string) (*WAV, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	w, err := DecodeWAV(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// DecodeWAV decodes a RIFF/WAVE file: PCM 8, 16, 24 or 32-bit integer or
// 32/64-bit float, any number of channels, plain or WAVE_FORMAT_EXTENSIBLE.
func DecodeWAV(data []byte) (*WAV, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	var w WAV
	var format, blockAlign int
	var pcm []byte
	haveFmt := false
	for off := 12; off+8 <= len(data); {
		id, size := string(data[off:off+4]), int(binary.LittleEndian.Uint32(data[off+4:off+8]))
		body := data[off+8:]
		if size > len(body) {
			if id != "data" {
				return nil, fmt.Errorf("%w: chunk %q of %d bytes is truncated (%d left)", ErrFormat, id, size, len(body))
			}
			return nil, fmt.Errorf("%w: truncated: the data chunk declares %d bytes, the file holds %d", ErrFormat, size, len(body))
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes, want ≥ 16", ErrFormat, size)
			}
			format = int(binary.LittleEndian.Uint16(body[0:2]))
			w.Channels = int(binary.LittleEndian.Uint16(body[2:4]))
			w.SampleRate = int(binary.LittleEndian.Uint32(body[4:8]))
			blockAlign = int(binary.LittleEndian.Uint16(body[12:14]))
			w.Bits = int(binary.LittleEndian.Uint16(body[14:16]))
			if format == formatExtensible {
				if size < 40 {
					return nil, fmt.Errorf("%w: extensible fmt chunk of %d bytes, want 40", ErrFormat, size)
				}
				format = int(binary.LittleEndian.Uint16(body[24:26])) // the sub-format GUID's first field
			}
			haveFmt = true
		case "data":
			pcm = body
		}
		off += 8 + size + size%2 // chunks are padded to even sizes
	}
	if !haveFmt {
		return nil, fmt.Errorf("%w: no fmt chunk", ErrFormat)
	}
	if pcm == nil {
		return nil, fmt.Errorf("%w: no data chunk", ErrFormat)
	}
	if w.Channels < 1 {
		return nil, fmt.Errorf("%w: %d channels", ErrFormat, w.Channels)
	}
	if w.SampleRate < 1 {
		return nil, fmt.Errorf("%w: sample rate %d", ErrFormat, w.SampleRate)
	}
	bytesPer := w.Bits / 8
	ok := format == formatPCM && (w.Bits == 8 || w.Bits == 16 || w.Bits == 24 || w.Bits == 32) ||
		format == formatFloat && (w.Bits == 32 || w.Bits == 64)
	if !ok {
		return nil, fmt.Errorf("%w: unsupported encoding (format %d, %d bits): want PCM 8/16/24/32-bit or float 32/64-bit", ErrFormat, format, w.Bits)
	}
	if blockAlign != bytesPer*w.Channels {
		return nil, fmt.Errorf("%w: block align %d, want %d bytes × %d channels", ErrFormat, blockAlign, bytesPer, w.Channels)
	}
	frames := len(pcm) / blockAlign
	w.Samples = make([]float64, frames)
	if format == formatPCM && w.Bits == 16 && w.Channels == 1 { // the common case, without the per-sample dispatch
		for f := range w.Samples {
			w.Samples[f] = float64(int16(binary.LittleEndian.Uint16(pcm[2*f:]))) / 32768
		}
		return &w, nil
	}
	for f := range frames {
		var s float64
		for c := range w.Channels {
			b := pcm[f*blockAlign+c*bytesPer:]
			s += sample(b, format, w.Bits)
		}
		w.Samples[f] = s / float64(w.Channels)
	}
	return &w, nil
}

// sample decodes one sample.
func sample(b []byte, format, bits int) float64 {
	if format == formatFloat {
		if bits == 32 {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	switch bits {
	case 8:
		return (float64(b[0]) - 128) / 128
	case 16:
		return float64(int16(binary.LittleEndian.Uint16(b))) / 32768
	case 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / (1 << 23)
	}
	return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
}

// EncodeWAV16 encodes mono samples in [−1, 1] as 16-bit PCM (clipped,
// rounded to nearest).
func EncodeWAV16(samples []float64, sampleRate int) []byte {
	var buf bytes.Buffer
	n := len(samples) * 2
	buf.WriteString("RIFF")
	binary.Write(&buf, binary.LittleEndian, uint32(36+n))
	buf.WriteString("WAVEfmt ")
	le := binary.LittleEndian
	buf.Write(le.AppendUint32(nil, 16))
	buf.Write(le.AppendUint16(nil, formatPCM))
	buf.Write(le.AppendUint16(nil, 1)) // mono
	buf.Write(le.AppendUint32(nil, uint32(sampleRate)))
	buf.Write(le.AppendUint32(nil, uint32(2*sampleRate))) // bytes per second
	buf.Write(le.AppendUint16(nil, 2))                    // block align
	buf.Write(le.AppendUint16(nil, 16))                   // bits
	buf.WriteString("data")
	binary.Write(&buf, binary.LittleEndian, uint32(n))
	for _, s := range samples {
		v := math.Round(math.Max(-1, math.Min(1, s)) * 32768)
		binary.Write(&buf, binary.LittleEndian, int16(math.Max(-32768, math.Min(32767, v))))
	}
	return buf.Bytes()
}

// WriteWAV16File writes mono 16-bit PCM atomically.
func WriteWAV16File(path string, samples []float64, sampleRate int) error {
	return atomicfile.Write(path, EncodeWAV16(samples, sampleRate))
}
