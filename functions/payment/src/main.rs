oms_aws::sqs_main!(payment::handle);
