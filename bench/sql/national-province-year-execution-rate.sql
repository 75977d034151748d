-- Budget execution rate per province and year: the sum of executed budgets over the sum of
-- adjusted (else initial) budgets, over the records that give both (a ratio of sums, never an
-- average of ratios).
SELECT left(region_code, 2), fiscal_year, count(*),
       sum(budget_executed) FILTER (WHERE budget_executed IS NOT NULL AND coalesce(budget_adjusted, budget_initial) IS NOT NULL)
       / nullif(sum(coalesce(budget_adjusted, budget_initial))
                FILTER (WHERE budget_executed IS NOT NULL AND coalesce(budget_adjusted, budget_initial) IS NOT NULL), 0)
FROM evaluations
GROUP BY 1, 2;
