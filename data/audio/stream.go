package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// PCMReader reads 16-bit mono PCM audio a block at a time — a WAV file's
// data, or raw samples (little-endian int16, e.g. from a microphone on
// standard input) — in constant memory whatever the length.
type PCMReader struct {
	r          *bufio.Reader
	SampleRate int
	left       int64 // data bytes left in a WAV file (−1: raw, until EOF)
	buf        []byte
}

// NewPCMReader reads raw little-endian int16 mono samples at rate from r.
func NewPCMReader(r io.Reader, rate int) *PCMReader {
	return &PCMReader{r: bufio.NewReaderSize(r, 1<<16), SampleRate: rate, left: -1}
}

// NewWAVReader reads the header of a WAV stream from r (RIFF/WAVE, PCM
// 16-bit mono) and returns a reader of its samples. Streams whose sizes
// are unknown (0 or 0xffffffff in the header, as some recorders write)
// are read until EOF.
func NewWAVReader(r io.Reader) (*PCMReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var head [12]byte
	if _, err := io.ReadFull(br, head[:]); err != nil || string(head[:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrFormat)
	}
	p := &PCMReader{r: br}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("%w: no data chunk", ErrFormat)
		}
		id, size := string(ch[:4]), int64(binary.LittleEndian.Uint32(ch[4:]))
		if id == "data" {
			if !haveFmt {
				return nil, fmt.Errorf("%w: data before the fmt chunk", ErrFormat)
			}
			p.left = size
			if size == 0 || size == 0xffffffff {
				p.left = -1
			}
			return p, nil
		}
		body := make([]byte, min(size+size%2, 1<<20))
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, fmt.Errorf("%w: truncated %q chunk", ErrFormat, id)
		}
		if id != "fmt " {
			continue
		}
		if len(body) < 16 {
			return nil, fmt.Errorf("%w: short fmt chunk", ErrFormat)
		}
		format, channels := binary.LittleEndian.Uint16(body[0:]), binary.LittleEndian.Uint16(body[2:])
		bits := binary.LittleEndian.Uint16(body[14:])
		if format == formatExtensible && len(body) >= 26 {
			format = binary.LittleEndian.Uint16(body[24:])
		}
		if format != formatPCM || bits != 16 || channels != 1 {
			return nil, fmt.Errorf("%w: a stream must be 16-bit PCM mono (format %d, %d bits, %d channels)", ErrFormat, format, bits, channels)
		}
		p.SampleRate, haveFmt = int(binary.LittleEndian.Uint32(body[4:])), true
	}
}

// Read fills dst with the next samples (int16/32768) and returns how
// many; io.EOF after the last.
func (p *PCMReader) Read(dst []float64) (int, error) {
	want := 2 * len(dst)
	if p.left >= 0 {
		if p.left < 2 {
			return 0, io.EOF
		}
		want = min(want, int(p.left&^1))
	}
	if cap(p.buf) < want {
		p.buf = make([]byte, want)
	}
	b := p.buf[:want]
	n, err := io.ReadFull(p.r, b)
	n &^= 1
	if p.left >= 0 {
		p.left -= int64(n)
	}
	for i := 0; i < n/2; i++ {
		dst[i] = float64(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || (err == io.EOF && n > 0) {
		err = nil
	}
	if n == 0 && err == nil {
		err = io.EOF
	}
	return n / 2, err
}
