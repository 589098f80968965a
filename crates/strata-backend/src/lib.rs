//! The one place where strata's cargo features become concrete burn backends.
//!
//! Library crates stay generic over `B: Backend`; binaries, benchmarks and tests pick a
//! backend here. Features (forwarded by every strata crate):
//!
//! | feature   | backend                         | float types offered          |
//! |-----------|---------------------------------|------------------------------|
//! | `ndarray` | `burn::backend::NdArray` (CPU)  | f32                          |
//! | `wgpu`    | `burn::backend::Wgpu` (fusion + autotune) | f32                |
//! | `cuda`    | `burn::backend::Cuda` (fusion + autotune) | f32, bf16 (training)|
//!
//! [`DefaultBackend`] is the most capable compiled backend (cuda > wgpu > ndarray), in f32;
//! tests use it, so `cargo test --features cuda` runs the same tests on the GPU.

use std::fmt;
use std::str::FromStr;

pub use burn;

#[cfg(not(any(feature = "ndarray", feature = "wgpu", feature = "cuda")))]
compile_error!("strata needs at least one backend feature: ndarray, wgpu or cuda");

/// CPU backend (ndarray, multi-threaded with rayon), f32.
#[cfg(feature = "ndarray")]
pub type NdArrayBackend = burn::backend::NdArray<f32>;
/// WebGPU/Vulkan backend with kernel fusion and autotune, f32.
#[cfg(feature = "wgpu")]
pub type WgpuBackend = burn::backend::Wgpu<f32>;
/// CUDA backend with kernel fusion and autotune, f32 (linear algebra, reference runs).
#[cfg(feature = "cuda")]
pub type CudaBackend = burn::backend::Cuda<f32>;
/// CUDA without kernel fusion (f32): a diagnostic twin of [`CudaBackend`] for isolating
/// fusion bugs; several times slower.
#[cfg(feature = "cuda")]
pub type CudaUnfusedBackend = burn_cubecl::CubeBackend<cubecl::cuda::CudaRuntime, f32, i32, u8>;
/// CUDA backend in bf16: the training precision on GPUs.
#[cfg(feature = "cuda")]
pub type CudaBf16Backend = burn::backend::Cuda<burn::tensor::bf16>;

/// The most capable compiled backend, in f32.
#[cfg(feature = "cuda")]
pub type DefaultBackend = CudaBackend;
/// The most capable compiled backend, in f32.
#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
pub type DefaultBackend = WgpuBackend;
/// The most capable compiled backend, in f32.
#[cfg(all(feature = "ndarray", not(any(feature = "wgpu", feature = "cuda"))))]
pub type DefaultBackend = NdArrayBackend;

/// [`DefaultBackend`] with automatic differentiation.
pub type DefaultAutodiffBackend = burn::backend::Autodiff<DefaultBackend>;

/// The device of [`DefaultBackend`] (device 0 / the default adapter).
pub fn default_device() -> burn::tensor::Device<DefaultBackend> {
    Default::default()
}

/// A backend chosen at run time, e.g. from `--device cuda`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// CPU through ndarray.
    NdArray,
    /// GPU through wgpu (Vulkan, Metal, DX12).
    Wgpu,
    /// NVIDIA GPU through CUDA.
    Cuda,
    /// NVIDIA GPU through CUDA without kernel fusion ([`CudaUnfusedBackend`]): slower per
    /// step, but compiles far fewer kernels and sidesteps fusion defects (docs/benchmarks.md).
    CudaUnfused,
}

impl DeviceKind {
    /// Every kind, in order of preference for [`DeviceKind::best_compiled`].
    pub const ALL: [DeviceKind; 4] = [DeviceKind::Cuda, DeviceKind::CudaUnfused, DeviceKind::Wgpu, DeviceKind::NdArray];

    /// The cargo feature that compiles this backend.
    pub fn feature(self) -> &'static str {
        match self {
            DeviceKind::NdArray => "ndarray",
            DeviceKind::Wgpu => "wgpu",
            DeviceKind::Cuda | DeviceKind::CudaUnfused => "cuda",
        }
    }

    /// Whether this binary was compiled with the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            DeviceKind::NdArray => cfg!(feature = "ndarray"),
            DeviceKind::Wgpu => cfg!(feature = "wgpu"),
            DeviceKind::Cuda | DeviceKind::CudaUnfused => cfg!(feature = "cuda"),
        }
    }

    /// The backends compiled into this binary.
    pub fn compiled() -> Vec<DeviceKind> {
        Self::ALL.into_iter().filter(|k| k.is_compiled()).collect()
    }

    /// The most capable compiled backend (the one [`DefaultBackend`] names).
    pub fn best_compiled() -> DeviceKind {
        Self::ALL
            .into_iter()
            .find(|k| k.is_compiled())
            .expect("at least one backend feature is compiled")
    }

    /// `Ok(self)` if compiled in, otherwise an error that says which feature to enable.
    pub fn ensure_compiled(self) -> Result<Self, UnknownDevice> {
        if self.is_compiled() {
            Ok(self)
        } else {
            Err(UnknownDevice(format!(
                "backend '{self}' is not compiled into this binary; rebuild with `--features {}` (compiled: {})",
                self.feature(),
                Self::compiled().iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
            )))
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == DeviceKind::CudaUnfused { "cuda-unfused" } else { self.feature() })
    }
}

/// A device name that is unknown or not compiled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDevice(pub String);

impl fmt::Display for UnknownDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownDevice {}

impl FromStr for DeviceKind {
    type Err = UnknownDevice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ndarray" | "cpu" => Ok(DeviceKind::NdArray),
            "wgpu" | "vulkan" => Ok(DeviceKind::Wgpu),
            "cuda" | "gpu" => Ok(DeviceKind::Cuda),
            "cuda-unfused" => Ok(DeviceKind::CudaUnfused),
            other => Err(UnknownDevice(format!(
                "unknown device '{other}': expected one of ndarray, wgpu, cuda, cuda-unfused"
            ))),
        }
    }
}

/// Runs a block with `B` bound to the f32 backend of a run-time [`DeviceKind`] and `device`
/// bound to its default device. Kinds that are not compiled in evaluate `$missing`.
///
/// ```
/// use strata_backend::{with_backend, DeviceKind};
/// let n = with_backend!(DeviceKind::NdArray, |B, device| {
///     burn::tensor::Tensor::<B, 1>::ones([3], &device).sum().into_scalar()
/// }, else |kind| panic!("{kind} not compiled"));
/// assert_eq!(n, 3.0);
/// ```
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, |$b:ident, $device:ident| $body:expr, else |$k:ident| $missing:expr) => {{
        #[allow(unreachable_patterns)]
        match $kind {
            #[cfg(feature = "cuda")]
            $crate::DeviceKind::Cuda => $crate::with_backend!(@bind $crate::CudaBackend, $b, $device, { $crate::configure_kernel_cache(); }, $body),
            #[cfg(feature = "cuda")]
            $crate::DeviceKind::CudaUnfused => $crate::with_backend!(@bind $crate::CudaUnfusedBackend, $b, $device, { $crate::configure_kernel_cache(); }, $body),
            #[cfg(feature = "wgpu")]
            $crate::DeviceKind::Wgpu => $crate::with_backend!(@bind $crate::WgpuBackend, $b, $device, {}, $body),
            #[cfg(feature = "ndarray")]
            $crate::DeviceKind::NdArray => $crate::with_backend!(@bind $crate::NdArrayBackend, $b, $device, { $crate::tune_host_allocator(); }, $body),
            $k => $missing,
        }
    }};
    // One arm: set up the backend, bind `$b` to its type and `$device` to its default device.
    (@bind $ty:ty, $b:ident, $device:ident, $setup:block, $body:expr) => {{
        $setup
        type $b = $ty;
        let $device: $crate::burn::tensor::Device<$b> = Default::default();
        $body
    }};
}

/// Makes glibc's allocator keep freed memory for reuse instead of handing it back to the OS,
/// once per process (a no-op elsewhere than Linux/glibc). Called by [`with_backend!`] for
/// the ndarray backend.
///
/// burn-ndarray 0.21 copies both operands of every matmul (its reshape always allocates), so
/// each step allocates and frees weight-sized buffers; under glibc's defaults the large ones
/// are `mmap`ed and unmapped each time and the heap top is trimmed, and every reuse faults in
/// fresh zeroed pages — most of the time went to the kernel. Raising the mmap threshold to
/// 1 GiB, the trim threshold to 4 GiB and the top pad to 512 MiB took SmolLM2-135M greedy
/// generation on 2 cores from 2.4 to 9.1 tokens/s (docs/benchmarks.md). The price is a
/// higher resident set: freed buffers stay mapped.
pub fn tune_host_allocator() {
    static TUNED: std::sync::Once = std::sync::Once::new();
    TUNED.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only sets allocator parameters; called once, before heavy allocation.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
            libc::mallopt(libc::M_TOP_PAD, 512 << 20);
        }
    });
}

/// The environment variable naming a folder for cubecl's on-disk kernel caches.
pub const KERNEL_CACHE_ENV: &str = "STRATA_KERNEL_CACHE";

/// Points cubecl's autotune results *and* its compiled-kernel (PTX) cache at the folder named
/// by `$STRATA_KERNEL_CACHE`, keeping everything else of cubecl's configuration (`cubecl.toml`,
/// `CUBECL_AUTOTUNE_LEVEL`, …). By default cubecl keeps autotune results under the nearest
/// `target/` and compiles every kernel afresh in each process; with the variable set, a second
/// process — or a fresh machine handed a copy of the folder — skips both the autotuning and the
/// NVRTC compilation of kernels it has seen (docs/benchmarks.md, "kernel caches").
///
/// Idempotent; a no-op when the variable is unset or empty, or when cubecl's configuration
/// was already read (it is fixed at the first GPU operation). Returns the folder in use.
#[cfg(feature = "cuda")]
pub fn configure_kernel_cache() -> Option<std::path::PathBuf> {
    use cubecl::config::{CubeClRuntimeConfig, cache::CacheConfig};
    use cubecl::config::RuntimeConfig as _;
    static CONFIGURED: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    CONFIGURED
        .get_or_init(|| {
            let dir = std::env::var_os(KERNEL_CACHE_ENV).filter(|v| !v.is_empty()).map(std::path::PathBuf::from)?;
            if CubeClRuntimeConfig::storage().lock().is_some() {
                return None;
            }
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
            config.autotune.cache = CacheConfig::File(dir.clone());
            config.compilation.cache = Some(CacheConfig::File(dir.clone()));
            CubeClRuntimeConfig::set(config);
            Some(dir)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("CUDA".parse::<DeviceKind>().unwrap(), DeviceKind::Cuda);
        assert_eq!("cpu".parse::<DeviceKind>().unwrap(), DeviceKind::NdArray);
        let unfused: DeviceKind = "cuda-unfused".parse().unwrap();
        assert_eq!((unfused, unfused.to_string().as_str(), unfused.feature()), (DeviceKind::CudaUnfused, "cuda-unfused", "cuda"));
        let err = "tpu".parse::<DeviceKind>().unwrap_err();
        assert!(err.0.contains("tpu") && err.0.contains("ndarray"));
    }

    #[test]
    fn best_compiled_is_compiled() {
        assert!(DeviceKind::best_compiled().is_compiled());
        assert!(DeviceKind::best_compiled().ensure_compiled().is_ok());
        if !cfg!(feature = "cuda") {
            let e = DeviceKind::Cuda.ensure_compiled().unwrap_err();
            assert!(e.0.contains("--features cuda"));
        }
    }
}
