//go:build !unix

package sqlite

import "errors"

type peers struct{}

func openPeers(string) (*peers, error) { return nil, errors.New("no shared memory on this platform") }

func (*peers) Load() uint64 { return 0 }
func (*peers) Add()         {}
