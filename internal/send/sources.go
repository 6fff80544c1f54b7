package send

import (
	"context"
	"errors"
	"fmt"

	"github.com/salvo-email/salvo/internal/fault"
	"github.com/salvo-email/salvo/internal/store"
)

// checkSources validates o:sending-ip and o:sending-ip-pool (or their
// X-Mailgun-Sending-Ip(-Pool) headers) before anything is stored: the
// address must be one of the node's source addresses (--source-ips) and
// is kept in canonical form; the pool must exist. Either mistake is a 400
// that names the value, never a silent fallback.
func (s *Service) checkSources(ctx context.Context, o *Options) error {
	if o.SendingIP != "" {
		ip, ok := s.Sources.Normalize(o.SendingIP)
		if !ok {
			return fault.Invalidf("Rejected: IP %s can't be used to send the message: it is not one of this server's source addresses (--source-ips)", o.SendingIP)
		}
		o.SendingIP = ip
	}
	if o.SendingIPPool != "" {
		if s.Pools == nil {
			return fault.Invalidf("IP pool %s not found", o.SendingIPPool)
		}
		if _, err := s.Pools.IPPool(ctx, o.SendingIPPool); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fault.Invalidf("IP pool %s not found", o.SendingIPPool)
			}
			return fmt.Errorf("read IP pool %s: %w", o.SendingIPPool, err)
		}
	}
	return nil
}
