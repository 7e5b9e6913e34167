"""How a story spreads: cascades of replies, quotes and reshares, their predicted size (SEISMIC), volume spikes."""
