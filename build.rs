//! Sets `picoformer_dsp` for targets with the Armv7E-M / Armv8-M Mainline DSP extension
//! (`thumbv7em-*`, `thumbv8m.main-*`), enabling the SXTB16/SMLAD kernels in `src/kernels/cortex_m.rs`.
//! `PICOFORMER_NO_DSP=1` in the build environment turns them off (generic kernels only; used by
//! `firmware/icount.sh` to measure the difference).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(picoformer_dsp)");
    println!("cargo::rerun-if-env-changed=PICOFORMER_NO_DSP");
    println!("cargo::rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    let dsp = target.starts_with("thumbv7em-") || target.starts_with("thumbv8m.main-");
    let off = std::env::var("PICOFORMER_NO_DSP").is_ok_and(|v| !v.is_empty() && v != "0");
    if dsp && !off {
        println!("cargo::rustc-cfg=picoformer_dsp");
    }
}
