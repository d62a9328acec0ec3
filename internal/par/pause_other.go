//go:build !amd64

package par

func pause() {}
