//! Operations shared by every architecture, on rows of activations: linear layers in any weight
//! dtype, LayerNorm and RMSNorm, rotary position embeddings, multi-head attention with a
//! bidirectional or causal mask and grouped-query heads, and the key/value cache it reads.
//!
//! Dependencies point one way: `attention` reads `kv`; `kv` and `linear` read only the kernels.

pub(crate) mod attention;
pub(crate) mod kv;
pub(crate) mod linear;
pub(crate) mod rope;

/// Attention geometry: `n_heads` query heads of `head_dim`, sharing `n_kv_heads` key/value heads
/// (`n_heads` a multiple of `n_kv_heads`; equal for multi-head attention, fewer for grouped-query
/// attention).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Heads {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
}

impl Heads {
    /// Width of the queries and of the attention output, `n_heads * head_dim`.
    pub(crate) fn q_dim(&self) -> usize {
        self.n_heads * self.head_dim
    }

    /// Width of one position's keys (or values), `n_kv_heads * head_dim`.
    pub(crate) fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// The key/value head that query head `head` reads.
    pub(crate) fn kv_head(&self, head: usize) -> usize {
        head / (self.n_heads / self.n_kv_heads.max(1)).max(1)
    }
}
