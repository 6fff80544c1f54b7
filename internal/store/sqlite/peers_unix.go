//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// peers is a counter in a memory-mapped file that every process using one
// database file shares (sqlstore.PeerCounter): the cache's way to hear of
// another process's changes without asking the database.
type peers struct{ mem []byte }

// openPeers maps path (created, mode 0600, 8 bytes) shared.
func openPeers(path string) (*peers, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if st.Size() < 8 {
		if err := f.Truncate(8); err != nil {
			return nil, err
		}
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	return &peers{mem: mem}, nil
}

func (p *peers) counter() *uint64 { return (*uint64)(unsafe.Pointer(&p.mem[0])) }

func (p *peers) Load() uint64 { return atomic.LoadUint64(p.counter()) }

func (p *peers) Add() { atomic.AddUint64(p.counter(), 1) }
