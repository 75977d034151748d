-- County × year sums over every record: every group (the API answers its first page of 100).
SELECT left(region_code, 6), fiscal_year, count(*), sum(expenditure_total), sum(three_public_total)
FROM evaluations
GROUP BY 1, 2;
