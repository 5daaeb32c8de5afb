#!/usr/bin/env python3
"""Writes the FOCUS fixtures of sample-data/focus-1.0 … focus-1.3 (issue 22), from the FOCUS
specification's column lists, not from any provider's sample: AWS-, Azure- and GCP-like billing
accounts, a sub-account billed under two billing accounts, account-level charges (null
SubAccountId), credits, and BilledCost as generated exports print it (binary-float digits,
E-notation). The 1.3 folder also holds an older (1.2) export overlapping the 1.3 one.

    scripts/make_focus_fixtures.py          # rewrites the four folders

The output is deterministic; the goldens of Tests/.../Fixtures/golden/focus-1.*-2024-09 render it.
"""
import csv
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sample-data")

# Column ids of each version (specification/columns of the FOCUS specification; 1.3 adds the
# allocation, contract and provider-split columns).
V10 = ["AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
       "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
       "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory",
       "CommitmentDiscountId", "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
       "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost",
       "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
       "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
       "ServiceCategory", "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags"]
V11 = sorted(V10 + ["CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
                    "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails"])
V12 = sorted(V11 + ["BillingAccountType", "InvoiceId", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
                    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "SubAccountType"])
V13 = sorted(V12 + ["AllocatedMethodDetails", "AllocatedMethodId", "AllocatedResourceId", "AllocatedResourceName",
                    "AllocatedTags", "ContractApplied", "HostProviderName", "ServiceProviderName"])
VERSIONS = {"1.0": V10, "1.1": V11, "1.2": V12, "1.3": V13}

AWS = {"provider": "AWS", "payer": ("100000000001", "Payer One"), "other": ("100000000002", "Payer Two")}
AZURE_ACCOUNT = ("/providers/Microsoft.Billing/billingAccounts/7654321", "Contoso EA")
GCP_ACCOUNT = ("01A2B3-C4D5E6-F7A8B9", "Fabrikam GCP")


def charges(version):
    """(billing account, sub-account or None, sub-account name, category, service, cost text,
    description, start) per row: the same story in every version, with version-marked amounts."""
    v = version.replace(".", "")
    rows = [
        # AWS-like: the payer's member accounts, one (200000000003) moved to the second payer
        # mid-month: each half of its money belongs to the payer its rows name.
        (AWS["payer"], "200000000001", "web-prod", "Usage", "Amazon Elastic Compute Cloud", "227.28753400000005", "EC2 c6g.xlarge hours", "2024-09-03T10:00:00Z"),
        (AWS["payer"], "200000000001", "web-prod", "Usage", "Amazon Simple Storage Service", "8.0E-7", "S3 requests", "2024-09-03T11:00:00Z"),
        (AWS["payer"], "200000000001", "web-prod", "Usage", "Amazon Simple Storage Service", f"0.0{v}4", "S3 storage GB-month", "2024-09-04T00:00:00Z"),
        (AWS["payer"], "200000000003", "data-lake", "Usage", "Amazon Elastic Compute Cloud", "889.0600830000001", "EC2 r6i.2xlarge hours", "2024-09-05T00:00:00Z"),
        (AWS["payer"], "200000000003", "data-lake", "Credit", "Amazon Elastic Compute Cloud", "-12.5", "Promotional credit", "2024-09-05T00:00:00Z"),
        (AWS["other"], "200000000003", "data-lake", "Usage", "Amazon Elastic Compute Cloud", "10.73", "EC2 r6i.2xlarge hours", "2024-09-20T00:00:00Z"),
        (AWS["other"], "200000000003", "data-lake", "Usage", "AWS Lambda", "3.5E-5", "Lambda requests", "2024-09-20T01:00:00Z"),
        # The payer's own charges: support and tax, no member account.
        (AWS["payer"], None, None, "Purchase", "AWS Support (Business)", "100", "Business support plan", "2024-09-01T00:00:00Z"),
        (AWS["payer"], None, None, "Tax", "Tax", "21.430000000000003", "VAT", "2024-09-30T20:00:00Z"),
        # The management account billed as a member of itself: a client whose id is the payer's.
        (AWS["other"], "100000000002", "management", "Usage", "AWS CloudTrail", "1.9999999999999998E-4", "Trail events", "2024-09-10T00:00:00Z"),
        # Azure-like: subscriptions of an enterprise billing account; a reservation bought at
        # the billing-account level (no subscription); a refunded purchase.
        (AZURE_ACCOUNT, "/subscriptions/64e3f0a2-0000-4000-8000-00000000abcd", "Prod", "Usage", "Virtual Machines", f"45.10000000000000{v[-1]}", "D4s v5", "2024-09-07T00:00:00Z"),
        (AZURE_ACCOUNT, "/subscriptions/64e3f0a2-0000-4000-8000-00000000abcd", "Prod", "Usage", "Storage", "1.2345678901234567E-14", "LRS snapshots", "2024-09-07T00:00:00Z"),
        (AZURE_ACCOUNT, "/subscriptions/11111111-2222-4333-8444-555555555555", "Dev", "Purchase", "Virtual Machines", "-30", "Reservation refund", "2024-09-12T00:00:00Z"),
        (AZURE_ACCOUNT, None, None, "Purchase", "Azure Reservations", "730.0000000000001", "Reserved VM instance, 1 year", "2024-09-02T00:00:00Z"),
        (AZURE_ACCOUNT, "/subscriptions/11111111-2222-4333-8444-555555555555", "Dev", "Adjustment", "Virtual Machines", "2.5E-3", "Rounding adjustment", "2024-09-12T00:00:00Z"),
        # GCP-like: projects of a billing account; support at the billing-account level; a
        # project that also runs under the AWS payer's id space does not exist (ids differ).
        (GCP_ACCOUNT, "shop-prod-4471", "shop-prod", "Usage", "Compute Engine", "0.30000000000000004", "N2 core hours", "2024-09-08T00:00:00Z"),
        (GCP_ACCOUNT, "shop-prod-4471", "shop-prod", "Usage", "BigQuery", "5E-1", "Analysis bytes", "2024-09-08T01:00:00Z"),
        (GCP_ACCOUNT, "shop-prod-4471", "shop-prod", "Credit", "Compute Engine", "-0.09999999999999999", "Sustained use discount", "2024-09-08T00:00:00Z"),
        (GCP_ACCOUNT, None, None, "Purchase", "Support", "29", "Standard support", "2024-09-01T00:00:00Z"),
        # Before the period in Moscow time (23:59:59 on 31 August): counted, not reported.
        (GCP_ACCOUNT, "shop-prod-4471", "shop-prod", "Usage", "Compute Engine", "1.1", "N2 core hours", "2024-08-31T20:59:59Z"),
    ]
    return rows


def fill(column, row, version):
    (account, account_name), sub, sub_name, category, service, cost, description, start = row
    end = start[:11] + "%02d" % ((int(start[11:13]) + 1) % 24) + start[13:]
    provider = ("Microsoft" if account.startswith("/providers") else "Google Cloud" if "-" in account and not account.startswith("1") else "AWS")
    values = {
        "BilledCost": cost, "EffectiveCost": cost, "ListCost": cost, "ContractedCost": cost,
        "PricingCurrencyEffectiveCost": cost,
        "BillingAccountId": account, "BillingAccountName": account_name, "BillingCurrency": "USD", "PricingCurrency": "USD",
        "BillingPeriodStart": "2024-09-01T00:00:00Z", "BillingPeriodEnd": "2024-10-01T00:00:00Z",
        "ChargeCategory": category, "ChargeDescription": description, "ChargeFrequency": "Usage-Based" if category == "Usage" else "One-Time",
        "ChargePeriodStart": start, "ChargePeriodEnd": end,
        "InvoiceIssuerName": provider, "ProviderName": provider, "PublisherName": provider,
        "ServiceProviderName": provider, "HostProviderName": provider,
        "ServiceName": service, "ServiceCategory": "Compute" if "Compute" in service or "Machines" in service else "Other",
        "SubAccountId": sub, "SubAccountName": sub_name, "SubAccountType": "Account" if sub else None,
        "BillingAccountType": "Billing Account", "RegionId": "eu-central-1" if provider == "AWS" else None,
        "PricingCategory": "Standard", "ConsumedQuantity": "1", "PricingQuantity": "1", "PricingUnit": "Hours",
        "ConsumedUnit": "Hours", "Tags": "{}", "InvoiceId": "INV-2024-09",
    }
    return values.get(column)


def write(path, columns, rows, version, null="NULL"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(columns)
        for row in rows:
            out.writerow([null if (value := fill(column, row, version)) is None else value for column in columns])


def main():
    for version, columns in VERSIONS.items():
        folder = os.path.join(ROOT, f"focus-{version}")
        rows = charges(version)
        aws = [r for r in rows if r[0][0].startswith("1")]
        azure = [r for r in rows if r[0][0].startswith("/providers")]
        gcp = [r for r in rows if r[0] == GCP_ACCOUNT]
        write(os.path.join(folder, f"aws-focus-{version}-2024-09.csv"), columns, aws, version)
        # Azure writes an empty field for null; GCP's BigQuery export too.
        write(os.path.join(folder, f"azure-focus-{version}-2024-09.csv"), columns, azure, version, null="")
        write(os.path.join(folder, f"gcp-focus-{version}-2024-09.csv"), columns, gcp, version, null="")
        if version == "1.3":
            # The first five AWS rows again, as the same payer's earlier FOCUS 1.2 export wrote
            # them (other columns, the same charges): duplicates, counted once.
            older = [r for r in charges("1.3")[:5]]
            write(os.path.join(folder, "aws-focus-1.2-2024-09-overlap.csv"), V12, older, "1.2")


if __name__ == "__main__":
    main()
