//! Borrowed decoder weight views, rebuilt per layer from the section indices found at load time
//! through [`schema::LLAMA`] and [`schema::GPT2`] (indices read by tensor name).
//!
//! [`schema::LLAMA`]: crate::model::schema::LLAMA
//! [`schema::GPT2`]: crate::model::schema::GPT2

use crate::format::{Arch, Blob};
use crate::model::ops::linear::{Linear, Norm};
use crate::model::schema::{index_of, TensorDef, GPT2, LLAMA, MAX_GLOBAL_TENSORS, MAX_LAYER_TENSORS};
use crate::model::views::{matrix, vector};
use crate::quant::Matrix;

/// One decoder layer: pre-norm attention and MLP blocks.
#[derive(Debug, Clone, Copy)]
pub struct LayerWeights<'a> {
    /// Norm before attention (`input_layernorm`, GPT-2 `ln_1`).
    pub attn_norm: Norm<'a>,
    /// Queries `[Q, H]`, or GPT-2's fused queries/keys/values `[Q + 2 KV, H]`.
    pub q: Linear<'a>,
    /// Keys `[KV, H]` (empty for GPT-2: fused into `q`).
    pub k: Linear<'a>,
    /// Values `[KV, H]` (empty for GPT-2).
    pub v: Linear<'a>,
    /// Attention output `[H, Q]`.
    pub o: Linear<'a>,
    /// Norm before the MLP (`post_attention_layernorm`, GPT-2 `ln_2`).
    pub mlp_norm: Norm<'a>,
    /// Llama's gate `[I, H]` (empty for GPT-2).
    pub gate: Linear<'a>,
    /// Up projection `[I, H]` (`up_proj`, GPT-2 `c_fc`).
    pub up: Linear<'a>,
    /// Down projection `[H, I]` (`down_proj`, GPT-2 `mlp.c_proj`).
    pub down: Linear<'a>,
}

/// Embeddings, final norm and LM head.
#[derive(Debug, Clone, Copy)]
pub struct Globals<'a> {
    /// Token embeddings `[V, H]`.
    pub embed: Matrix<'a>,
    /// GPT-2's learned positions `[max_position, H]` (empty for Llama).
    pub position: Matrix<'a>,
    /// Final norm.
    pub norm: Norm<'a>,
    /// LM head `[V, H]`: `lm_head.weight`, or the token embeddings when tied.
    pub head: Linear<'a>,
}

const NONE: u16 = u16::MAX;

fn lin<'a>(blob: &Blob<'a>, w: u16, b: u16) -> Linear<'a> {
    Linear::new(matrix(blob, w), if b == NONE { &[] } else { vector(blob, b) })
}

fn norm<'a>(blob: &Blob<'a>, w: u16, b: u16) -> Norm<'a> {
    Norm { weight: vector(blob, w), bias: if b == NONE { &[] } else { vector(blob, b) } }
}

/// The global views of an `arch` model from its checked indices (schema order).
pub(crate) fn globals<'a>(blob: &Blob<'a>, arch: Arch, ix: &[u16; MAX_GLOBAL_TENSORS]) -> Globals<'a> {
    match arch {
        Arch::Gpt2 => {
            let embed = matrix(blob, ix[G_WTE]);
            Globals {
                embed,
                position: matrix(blob, ix[G_WPE]),
                norm: norm(blob, ix[G_LN_F_W], ix[G_LN_F_B]),
                head: Linear::new(embed, &[]),
            }
        }
        _ => {
            let embed = matrix(blob, ix[L_EMBED]);
            let head = if ix[L_HEAD] == NONE { embed } else { matrix(blob, ix[L_HEAD]) };
            Globals {
                embed,
                position: matrix(blob, NONE),
                norm: norm(blob, ix[L_NORM], NONE),
                head: Linear::new(head, &[]),
            }
        }
    }
}

/// A layer's views from its checked indices (schema order).
pub(crate) fn layer<'a>(blob: &Blob<'a>, arch: Arch, ix: &[u16; MAX_LAYER_TENSORS]) -> LayerWeights<'a> {
    let empty = lin(blob, NONE, NONE);
    match arch {
        Arch::Gpt2 => LayerWeights {
            attn_norm: norm(blob, ix[GL_LN1_W], ix[GL_LN1_B]),
            q: lin(blob, ix[GL_QKV_W], ix[GL_QKV_B]),
            k: empty,
            v: empty,
            o: lin(blob, ix[GL_PROJ_W], ix[GL_PROJ_B]),
            mlp_norm: norm(blob, ix[GL_LN2_W], ix[GL_LN2_B]),
            gate: empty,
            up: lin(blob, ix[GL_FC_W], ix[GL_FC_B]),
            down: lin(blob, ix[GL_DOWN_W], ix[GL_DOWN_B]),
        },
        _ => LayerWeights {
            attn_norm: norm(blob, ix[LL_IN_NORM], NONE),
            q: lin(blob, ix[LL_Q], NONE),
            k: lin(blob, ix[LL_K], NONE),
            v: lin(blob, ix[LL_V], NONE),
            o: lin(blob, ix[LL_O], NONE),
            mlp_norm: norm(blob, ix[LL_POST_NORM], NONE),
            gate: lin(blob, ix[LL_GATE], NONE),
            up: lin(blob, ix[LL_UP], NONE),
            down: lin(blob, ix[LL_DOWN], NONE),
        },
    }
}

const LG: &[TensorDef] = LLAMA.globals;
const L_EMBED: usize = index_of(LG, "embed_tokens.weight");
const L_NORM: usize = index_of(LG, "norm.weight");
const L_HEAD: usize = index_of(LG, "lm_head.weight");
const LL: &[TensorDef] = LLAMA.layer;
const LL_IN_NORM: usize = index_of(LL, "input_layernorm.weight");
const LL_Q: usize = index_of(LL, "self_attn.q_proj.weight");
const LL_K: usize = index_of(LL, "self_attn.k_proj.weight");
const LL_V: usize = index_of(LL, "self_attn.v_proj.weight");
const LL_O: usize = index_of(LL, "self_attn.o_proj.weight");
const LL_POST_NORM: usize = index_of(LL, "post_attention_layernorm.weight");
const LL_GATE: usize = index_of(LL, "mlp.gate_proj.weight");
const LL_UP: usize = index_of(LL, "mlp.up_proj.weight");
const LL_DOWN: usize = index_of(LL, "mlp.down_proj.weight");
const GG: &[TensorDef] = GPT2.globals;
const G_WTE: usize = index_of(GG, "wte.weight");
const G_WPE: usize = index_of(GG, "wpe.weight");
const G_LN_F_W: usize = index_of(GG, "ln_f.weight");
const G_LN_F_B: usize = index_of(GG, "ln_f.bias");
const GL: &[TensorDef] = GPT2.layer;
const GL_LN1_W: usize = index_of(GL, "ln_1.weight");
const GL_LN1_B: usize = index_of(GL, "ln_1.bias");
const GL_QKV_W: usize = index_of(GL, "attn.c_attn.weight");
const GL_QKV_B: usize = index_of(GL, "attn.c_attn.bias");
const GL_PROJ_W: usize = index_of(GL, "attn.c_proj.weight");
const GL_PROJ_B: usize = index_of(GL, "attn.c_proj.bias");
const GL_LN2_W: usize = index_of(GL, "ln_2.weight");
const GL_LN2_B: usize = index_of(GL, "ln_2.bias");
const GL_FC_W: usize = index_of(GL, "mlp.c_fc.weight");
const GL_FC_B: usize = index_of(GL, "mlp.c_fc.bias");
const GL_DOWN_W: usize = index_of(GL, "mlp.c_proj.weight");
const GL_DOWN_B: usize = index_of(GL, "mlp.c_proj.bias");
