"""Credit limits, credit-insurance covers, payer risk: alerts before the loss."""
