//! How a chain's transactions are priced: the [`FeeMode`] an operator sets per chain, resolved
//! once against the node ([`resolve_pricing`]) into a [`Pricing`]. The relayer's [`TxSender`]
//! prices with it; [`PriceFiller`] gives the same pricing to an alloy provider (the CLI's and
//! the deployer's signing providers), so that every transaction crossgov sends — relayer,
//! deploy, governance commands — works on chains without EIP-1559 and on gas-free ones.
//!
//! [`TxSender`]: super::TxSender

use alloy::eips::BlockNumberOrTag;
use alloy::network::{EthereumWallet, Network, TransactionBuilder};
use alloy::providers::fillers::{FillerControlFlow, TxFiller};
use alloy::providers::{DynProvider, Provider, ProviderBuilder, SendableTx};
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::TransportResult;
use alloy::transports::http::reqwest::Url;

use super::{Backoff, ChainError, retry};

/// How a chain's transactions are priced (`fee_mode` in the relayer config, `--fee-mode` in
/// the CLI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FeeMode {
    /// Detect from the node at start: no base fee in the latest block (pre-London) or a zero
    /// base fee (a gas-free network) → [`FeeMode::Legacy`]; otherwise [`FeeMode::Eip1559`]
    /// when the node answers `eth_feeHistory`, else legacy.
    #[default]
    Auto,
    /// EIP-1559 transactions, fees from `eth_feeHistory`.
    Eip1559,
    /// Legacy transactions at the node's `eth_gasPrice`.
    Legacy,
    /// Legacy transactions at this price in wei, 0 included (gas-free networks: the sending
    /// account needs no balance). Never bumped: a stuck transaction is broadcast again.
    Fixed(u128),
}

impl FeeMode {
    /// The config spelling (`auto`, `eip1559`, `legacy`, `fixed`).
    pub fn name(self) -> &'static str {
        match self {
            FeeMode::Auto => "auto",
            FeeMode::Eip1559 => "eip1559",
            FeeMode::Legacy => "legacy",
            FeeMode::Fixed(_) => "fixed",
        }
    }

    /// From a mode's name and the fixed price, which `fixed` needs and the others refuse.
    pub fn parse(mode: &str, gas_price_wei: Option<u64>) -> Result<FeeMode, FeeModeError> {
        match (mode, gas_price_wei) {
            ("fixed", Some(price)) => Ok(FeeMode::Fixed(u128::from(price))),
            ("fixed", None) => Err(FeeModeError::MissingPrice),
            (_, Some(_)) if ["auto", "eip1559", "legacy"].contains(&mode) => {
                Err(FeeModeError::PriceWithoutFixed)
            }
            ("auto", None) => Ok(FeeMode::Auto),
            ("eip1559", None) => Ok(FeeMode::Eip1559),
            ("legacy", None) => Ok(FeeMode::Legacy),
            (other, _) => Err(FeeModeError::Unknown(other.to_owned())),
        }
    }
}

/// A fee mode that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FeeModeError {
    /// Not one of the modes.
    #[error("{0:?} is not a fee mode: use auto, eip1559, legacy or fixed")]
    Unknown(String),
    /// `fixed` without a price.
    #[error("fee mode fixed needs a gas price (0 on a gas-free chain)")]
    MissingPrice,
    /// A price with another mode.
    #[error("a gas price is only used with fee mode fixed")]
    PriceWithoutFixed,
}

/// How transactions are priced once the mode is resolved against the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// `maxFeePerGas` / `maxPriorityFeePerGas` from `eth_feeHistory`.
    Eip1559,
    /// `gasPrice` from `eth_gasPrice`.
    Legacy,
    /// `gasPrice` fixed.
    Fixed(u128),
}

impl std::fmt::Display for Pricing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pricing::Eip1559 => f.write_str("eip1559 (eth_feeHistory)"),
            Pricing::Legacy => f.write_str("legacy (eth_gasPrice)"),
            Pricing::Fixed(price) => write!(f, "legacy at {price} wei"),
        }
    }
}

/// What [`FeeMode::Auto`] resolves to on a node whose latest block has `base_fee` and which
/// does (`fee_history`) or does not answer `eth_feeHistory`. Pure, for tests.
pub fn auto_pricing(base_fee: Option<u128>, fee_history: bool) -> Pricing {
    match base_fee {
        Some(fee) if fee > 0 && fee_history => Pricing::Eip1559,
        _ => Pricing::Legacy,
    }
}

/// Resolves `fee` against the node behind `provider` (the chain named `chain`): a node that lacks
/// what an explicit mode needs is [`ChainError::Unsupported`] naming the method and `fee_mode`.
pub async fn resolve_pricing(
    provider: &DynProvider,
    chain: &str,
    fee: FeeMode,
    backoff: &Backoff,
) -> Result<Pricing, ChainError> {
    let unsupported = |method: &str, detail: &str| ChainError::Unsupported {
        chain: chain.to_owned(),
        method: method.to_owned(),
        setting: "fee_mode".into(),
        detail: detail.to_owned(),
    };
    let base_fee = || async {
        let block = retry(backoff, || async {
            provider
                .get_block_by_number(BlockNumberOrTag::Latest)
                .await
                .map_err(|e| ChainError::from_rpc(chain, "latest block", &e))
        })
        .await?;
        let block = block.ok_or_else(|| ChainError::BadData {
            chain: chain.to_owned(),
            what: "latest block".into(),
            message: "the node has no latest block".into(),
        })?;
        Ok::<_, ChainError>(block.header.base_fee_per_gas.map(u128::from))
    };
    let fee_history = || async {
        retry(backoff, || async {
            provider
                .get_fee_history(1, BlockNumberOrTag::Latest, &[])
                .await
                .map(|_| ())
                .map_err(|e| ChainError::from_rpc(chain, "eth_feeHistory", &e))
        })
        .await
    };
    match fee {
        FeeMode::Fixed(price) => Ok(Pricing::Fixed(price)),
        FeeMode::Legacy => {
            let price = retry(backoff, || async {
                provider
                    .get_gas_price()
                    .await
                    .map_err(|e| ChainError::from_rpc(chain, "eth_gasPrice", &e))
            })
            .await;
            match price {
                Err(e) if e.is_unsupported() => Err(unsupported(
                    "eth_gasPrice",
                    "the node does not answer eth_gasPrice; set fee_mode = \"fixed\" with gas_price_wei",
                )),
                other => other.map(|_| Pricing::Legacy),
            }
        }
        FeeMode::Eip1559 => {
            if base_fee().await?.is_none() {
                return Err(unsupported(
                    "baseFeePerGas",
                    "the latest block has no base fee (a pre-London chain); set fee_mode = \"auto\" or \"legacy\"",
                ));
            }
            match fee_history().await {
                Ok(()) => Ok(Pricing::Eip1559),
                Err(e) if e.is_unsupported() => Err(unsupported(
                    "eth_feeHistory",
                    "the node does not answer eth_feeHistory; set fee_mode = \"auto\" or \"legacy\"",
                )),
                Err(e) => Err(e),
            }
        }
        FeeMode::Auto => {
            let base_fee = base_fee().await?;
            let history = match base_fee {
                Some(fee) if fee > 0 => match fee_history().await {
                    Ok(()) => true,
                    Err(e) if e.is_unsupported() => false,
                    Err(e) => return Err(e),
                },
                _ => false,
            };
            let pricing = auto_pricing(base_fee, history);
            tracing::info!(chain, ?base_fee, fee_history = history, ?pricing, "fee mode detected");
            Ok(pricing)
        }
    }
}

/// An alloy filler that prices a transaction as a resolved [`Pricing`] says: for a legacy or
/// fixed price it sets `gasPrice` before the gas filler runs (which then builds a legacy
/// transaction); for EIP-1559 it leaves the fees to the gas filler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceFiller {
    /// `None` for EIP-1559, else the price.
    gas_price: Option<u128>,
}

impl PriceFiller {
    /// Every transaction legacy at `gas_price` wei (0 on a gas-free network), or, with `None`,
    /// priced by the gas filler (EIP-1559 where the node has it).
    pub fn new(gas_price: Option<u128>) -> PriceFiller {
        PriceFiller { gas_price }
    }
}

impl<N: Network> TxFiller<N> for PriceFiller {
    type Fillable = ();

    fn status(&self, tx: &N::TransactionRequest) -> FillerControlFlow {
        if self.gas_price.is_none() || tx.gas_price().is_some() {
            FillerControlFlow::Finished
        } else {
            FillerControlFlow::Ready
        }
    }

    fn fill_sync(&self, tx: &mut SendableTx<N>) {
        if let (Some(price), Some(builder)) = (self.gas_price, tx.as_mut_builder())
            && builder.gas_price().is_none()
        {
            builder.set_gas_price(price);
        }
    }

    async fn prepare<P: Provider<N>>(
        &self,
        _provider: &P,
        _tx: &N::TransactionRequest,
    ) -> TransportResult<Self::Fillable> {
        Ok(())
    }

    async fn fill(
        &self,
        _fillable: Self::Fillable,
        mut tx: SendableTx<N>,
    ) -> TransportResult<SendableTx<N>> {
        self.fill_sync(&mut tx);
        Ok(tx)
    }
}

/// A provider at `url` signing with `signer` (nonce, chain id and gas filled, fees per `fee`
/// resolved now: a legacy price is read once, which suits a command's lifetime).
pub async fn signing_provider(
    url: Url,
    signer: PrivateKeySigner,
    fee: FeeMode,
) -> Result<DynProvider, ChainError> {
    let reader = ProviderBuilder::new().connect_http(url.clone()).erased();
    let name = url.host_str().unwrap_or("chain").to_owned();
    let backoff = Backoff::default();
    let gas_price = match resolve_pricing(&reader, &name, fee, &backoff).await? {
        Pricing::Eip1559 => None,
        Pricing::Fixed(price) => Some(price),
        Pricing::Legacy => Some(
            reader
                .get_gas_price()
                .await
                .map_err(|e| ChainError::from_rpc(&name, "eth_gasPrice", &e))?,
        ),
    };
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .filler(PriceFiller { gas_price })
        .with_gas_estimation()
        .with_simple_nonce_management()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(signer))
        .connect_http(url)
        .erased())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_reads_the_base_fee_and_fee_history() {
        // Pre-London: no base fee.
        assert_eq!(auto_pricing(None, false), Pricing::Legacy);
        assert_eq!(auto_pricing(None, true), Pricing::Legacy);
        // A gas-free network (zero base fee): legacy at the node's price, which is 0 there.
        assert_eq!(auto_pricing(Some(0), true), Pricing::Legacy);
        // London with eth_feeHistory, and without it (FISCO BCOS).
        assert_eq!(auto_pricing(Some(7), true), Pricing::Eip1559);
        assert_eq!(auto_pricing(Some(7), false), Pricing::Legacy);
    }

    #[test]
    fn modes_parse_with_their_price_rules() {
        assert_eq!(FeeMode::parse("auto", None), Ok(FeeMode::Auto));
        assert_eq!(FeeMode::parse("eip1559", None), Ok(FeeMode::Eip1559));
        assert_eq!(FeeMode::parse("legacy", None), Ok(FeeMode::Legacy));
        assert_eq!(FeeMode::parse("fixed", Some(0)), Ok(FeeMode::Fixed(0)));
        assert_eq!(FeeMode::parse("fixed", None), Err(FeeModeError::MissingPrice));
        assert_eq!(FeeMode::parse("legacy", Some(1)), Err(FeeModeError::PriceWithoutFixed));
        assert_eq!(FeeMode::parse("gasless", None), Err(FeeModeError::Unknown("gasless".into())));
        assert_eq!(FeeMode::Fixed(5).name(), "fixed");
    }
}
