//! Decoder hyper-parameters as the forward pass uses them (sizes as `usize`).

use crate::format::{Activation, Arch, ArchParams, Header, RopeScaling};
use crate::model::ops::Heads;

/// Llama-family or GPT-2 hyper-parameters, read from a validated header.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DecoderConfig {
    /// Llama or GPT-2.
    pub arch: Arch,
    /// Vocabulary size `V`.
    pub vocab_size: usize,
    /// Hidden size `H`.
    pub hidden: usize,
    /// Decoder layers.
    pub n_layers: usize,
    /// Query heads.
    pub n_heads: usize,
    /// Key/value heads (`< n_heads`: grouped-query attention).
    pub n_kv_heads: usize,
    /// Size of one head `d`.
    pub head_dim: usize,
    /// Feed-forward inner size `I`.
    pub intermediate: usize,
    /// Longest context (positions).
    pub max_position: usize,
    /// RMSNorm (Llama) or LayerNorm (GPT-2) epsilon.
    pub eps: f32,
    /// Feed-forward activation.
    pub activation: Activation,
    /// RoPE base (Llama; 0 for GPT-2).
    pub rope_theta: f32,
    /// RoPE frequency scaling.
    pub rope_scaling: RopeScaling,
    /// The LM head is the token embedding matrix.
    pub tied_head: bool,
}

impl DecoderConfig {
    /// The configuration of a decoder header (`None` for other architectures).
    pub(crate) fn from_header(h: &Header) -> Option<DecoderConfig> {
        let ArchParams::Decoder(p) = &h.params else {
            return None;
        };
        Some(DecoderConfig {
            arch: h.arch,
            vocab_size: p.vocab_size as usize,
            hidden: p.hidden as usize,
            n_layers: p.n_layers as usize,
            n_heads: p.n_heads as usize,
            n_kv_heads: p.n_kv_heads as usize,
            head_dim: p.head_dim as usize,
            intermediate: p.intermediate as usize,
            max_position: p.max_position as usize,
            eps: p.norm_eps,
            activation: p.activation,
            rope_theta: p.rope_theta,
            rope_scaling: p.rope_scaling,
            tied_head: p.tied_head,
        })
    }

    /// Attention geometry.
    pub(crate) fn heads(&self) -> Heads {
        Heads { n_heads: self.n_heads, n_kv_heads: self.n_kv_heads, head_dim: self.head_dim }
    }

    /// Width of the queries, `n_heads * d`.
    pub fn q_dim(&self) -> usize {
        self.n_heads * self.head_dim
    }

    /// Width of one position's keys (or values), `n_kv_heads * d`.
    pub fn kv_dim(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// Whether positions enter through rotary embeddings (Llama) rather than a learned table.
    pub fn uses_rope(&self) -> bool {
        self.arch == Arch::Llama
    }
}
