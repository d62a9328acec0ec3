package par

// pause waits some dozens of cycles without holding the core's
// execution units (PAUSE).
func pause()
